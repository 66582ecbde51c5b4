"""Artifact classes and where their files are inside the task's container."""

import os
import warnings

# Tests cannot write at /gcs or /minio: this variable (tests only) puts every
# mount under a directory of theirs. Images leave it unset.
MOUNT_ROOT_ENV = 'KFP_SDK_STANDIN_MOUNT_ROOT'

WORKSPACE_MOUNT = '/kfp-workspace'

# The launcher mirrors remote URIs at these local paths (the same table as
# the driver's executor.LocalPath).
_MOUNTS = (('gs://', '/gcs/'), ('minio://', '/minio/'), ('s3://', '/s3/'))
_OCI, _OCI_MOUNT = 'oci://', '/oci/'

# The unsupported default executor output directory: KFP's get_uri gives ''
# there rather than a URI nobody can read.
_NO_TASK_ROOT = '/tmp/kfp_outputs'


def _mount_root():
    return os.environ.get(MOUNT_ROOT_ENV, '').rstrip('/')


def _mounted(uri):
    """The mount path of a remote URI (without the test root), or None."""
    for remote, local in _MOUNTS:
        if uri.startswith(remote):
            return local + uri[len(remote):]
    if uri.startswith(_OCI):
        return _OCI_MOUNT + uri[len(_OCI):].replace('/', '_')
    return None


def local_path(uri):
    """Where the file of a remote URI is in the container; a URI that is no
    remote one is a path already."""
    mounted = _mounted(uri)
    return uri if mounted is None else _mount_root() + mounted


def remote_uri(path):
    """The URI a local path under a mount stands for; other paths stay."""
    root = _mount_root()
    if root:
        if not path.startswith(root + '/'):
            return path
        path = path[len(root):]
    for remote, local in _MOUNTS:
        if path.startswith(local):
            return remote + path[len(local):]
    if path.startswith(_OCI_MOUNT):
        rest = path[len(_OCI_MOUNT):]
        if rest.endswith('/models'):
            rest = rest[:-len('/models')]
        return _OCI + rest.replace('_', '/')
    return path


class Artifact:
    """A file or directory with a URI and metadata, produced or consumed
    by a task."""
    schema_title = 'system.Artifact'
    schema_version = '0.0.1'

    def __init__(self, name=None, uri=None, metadata=None):
        self.name = name or ''
        self.uri = uri or ''
        self.metadata = metadata or {}
        self.custom_path = ''

    @property
    def path(self):
        return self._local_path()

    @path.setter
    def path(self, value):
        self.uri = remote_uri(value)

    def set_path(self, path):
        """Use this local path instead of the one the URI maps to."""
        self.custom_path = path

    def _local_path(self):
        if self.custom_path:
            return self.custom_path
        mounted = _mounted(self.uri)
        if mounted is None:
            return self.uri
        # The backend marks artifacts already in the pipeline workspace.
        if self.metadata.get('_kfp_workspace') is True:
            mounted = WORKSPACE_MOUNT + '/.artifacts/' + mounted.lstrip('/')
        return _mount_root() + mounted

    def __repr__(self):
        return (f'{type(self).__name__}(name={self.name!r}, uri={self.uri!r}, '
                f'metadata={self.metadata!r})')


class Model(Artifact):
    schema_title = 'system.Model'

    @property
    def framework(self):
        return self.metadata.get('framework', '')

    @framework.setter
    def framework(self, value):
        self.metadata['framework'] = value

    @property
    def path(self):
        # A modelcar image keeps its files under /models.
        if self.uri.startswith(_OCI) and not self.custom_path:
            return self._local_path() + '/models'
        return self._local_path()

    @path.setter
    def path(self, value):
        self.uri = remote_uri(value)


class Dataset(Artifact):
    schema_title = 'system.Dataset'


class HTML(Artifact):
    schema_title = 'system.HTML'


class Markdown(Artifact):
    schema_title = 'system.Markdown'


class Metrics(Artifact):
    """Scalar metrics, kept in the metadata."""
    schema_title = 'system.Metrics'

    def log_metric(self, metric, value):
        self.metadata[metric] = value


class ClassificationMetrics(Artifact):
    """ROC points and a confusion matrix, kept in the metadata in the shape
    the KFP UI reads (confidenceMetrics, confusionMatrix)."""
    schema_title = 'system.ClassificationMetrics'

    def log_roc_data_point(self, fpr, tpr, threshold):
        self.metadata.setdefault('confidenceMetrics', []).append({
            'confidenceThreshold': threshold,
            'recall': tpr,
            'falsePositiveRate': fpr,
        })

    def log_roc_curve(self, fpr, tpr, threshold):
        if not len(fpr) == len(tpr) == len(threshold):
            raise ValueError(
                f'fpr, tpr and threshold differ in length: {len(fpr)}, '
                f'{len(tpr)}, {len(threshold)}')
        for f, t, th in zip(fpr, tpr, threshold):
            self.log_roc_data_point(f, t, th)

    def set_confusion_matrix_categories(self, categories):
        categories = list(categories)
        self.metadata['confusionMatrix'] = {
            'annotationSpecs': [{'displayName': c} for c in categories],
            'rows': [{'row': [0] * len(categories)} for _ in categories],
        }

    def _categories(self):
        matrix = self.metadata.get('confusionMatrix')
        if matrix is None:
            raise ValueError('call set_confusion_matrix_categories first')
        return [s['displayName'] for s in matrix['annotationSpecs']]

    def _category_index(self, category):
        categories = self._categories()
        if category not in categories:
            raise ValueError(
                f'category {category!r} is not one of {categories}')
        return categories.index(category)

    def log_confusion_matrix_row(self, row_category, row):
        i = self._category_index(row_category)
        if len(row) != len(self._categories()):
            raise ValueError(
                f'row has {len(row)} values, want {len(self._categories())}')
        self.metadata['confusionMatrix']['rows'][i] = {'row': list(row)}

    def log_confusion_matrix_cell(self, row_category, col_category, value):
        i = self._category_index(row_category)
        j = self._category_index(col_category)
        self.metadata['confusionMatrix']['rows'][i]['row'][j] = value

    def log_confusion_matrix(self, categories, matrix):
        self.set_confusion_matrix_categories(categories)
        if len(matrix) != len(categories):
            raise ValueError(
                f'matrix has {len(matrix)} rows for {len(categories)} categories')
        for category, row in zip(categories, matrix):
            self.log_confusion_matrix_row(category, row)


class SlicedClassificationMetrics(Artifact):
    """ClassificationMetrics per slice, kept in the metadata as
    evaluationSlices."""
    schema_title = 'system.SlicedClassificationMetrics'

    def _slice(self, name):
        slices = self.__dict__.setdefault('_slices', {})
        if name not in slices:
            slices[name] = ClassificationMetrics()
        return slices[name]

    def _publish(self):
        self.metadata = {'evaluationSlices': [
            {'slice': name, 'sliceClassificationMetrics': m.metadata}
            for name, m in self._slices.items()
        ]}

    def log_roc_reading(self, slice, threshold, tpr, fpr):
        self._slice(slice).log_roc_data_point(fpr, tpr, threshold)
        self._publish()

    def load_roc_readings(self, slice, readings):
        for threshold, tpr, fpr in readings:
            self._slice(slice).log_roc_data_point(fpr, tpr, threshold)
        self._publish()

    def set_confusion_matrix_categories(self, slice, categories):
        self._slice(slice).set_confusion_matrix_categories(categories)
        self._publish()

    def log_confusion_matrix_row(self, slice, row_category, row):
        self._slice(slice).log_confusion_matrix_row(row_category, row)
        self._publish()

    def log_confusion_matrix_cell(self, slice, row_category, col_category,
                                  value):
        self._slice(slice).log_confusion_matrix_cell(row_category,
                                                     col_category, value)
        self._publish()

    def load_confusion_matrix(self, slice, categories, matrix):
        self._slice(slice).log_confusion_matrix(categories, matrix)
        self._publish()


SCHEMA_TITLES = {
    cls.schema_title: cls for cls in (
        Artifact, Model, Dataset, Metrics, ClassificationMetrics,
        SlicedClassificationMetrics, HTML, Markdown)
}

_task_root = None


def set_task_root(local_dir):
    """The executor calls this with the directory of the executor output
    file, the local mirror of the task's root URI."""
    global _task_root
    _task_root = local_dir


def get_uri(suffix='Output'):
    """A URI under the running task's root, for artifacts a function
    creates and returns."""
    if _task_root is None:
        raise RuntimeError('dsl.get_uri works only while a task runs')
    root = remote_uri(_task_root)
    if root == _NO_TASK_ROOT:
        warnings.warn('dsl.get_uri: the task root is unknown here',
                      RuntimeWarning, stacklevel=2)
        return ''
    return root.rstrip('/') + '/' + suffix
