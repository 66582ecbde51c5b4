// Package convert rewrites a workflow compiled by today's KFP, whose driver
// steps are container templates running the `driver` binary with flags, into
// one whose driver steps are executor-plugin templates
// (`plugin: {driver-plugin: {args: {...}}}`) answered by this project's
// plugin. Every other template is left as it was.
//
// Object is the one conversion: the convert command (Workflow) and the
// admission webhook both call it on a decoded workflow and act on its Result.
package convert

import (
	"fmt"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/cmdline"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/pluginconfig"
)

// Options tune a conversion.
type Options struct {
	// PodMetadata is the admin's driver pod labels and annotations. They are
	// added to spec.podMetadata, the only metadata Argo puts on the agent pod
	// that runs the plugin; keys the workflow already sets are kept. Installs
	// with the admission webhook leave it empty: the webhook puts them on the
	// agent pod alone instead of every pod of the workflow.
	PodMetadata pluginconfig.PodMetadata
	// KeepNativeLine leaves a workflow whose driver templates are KFP
	// master's (the native line, see cmdline.Line) entirely as it is, and
	// names them in Result.NativeLine: the admission webhook uses it until
	// the plugin's driver serves that line.
	KeepNativeLine bool
}

// Result says what Object changed.
type Result struct {
	// Templates are the indexes in spec.templates of the driver templates
	// that were replaced, in order.
	Templates []int
	// Names are those templates' names, in the same order.
	Names []string
	// PodMetadata is true when spec.podMetadata was changed.
	PodMetadata bool
	// NativeLine names the native-line driver templates left unconverted
	// under Options.KeepNativeLine; nothing else was changed then.
	NativeLine []string
}

// Changed reports whether the workflow was modified at all.
func (r Result) Changed() bool { return len(r.Templates) > 0 || r.PodMetadata }

// Workflow converts a KFP-compiled Argo Workflow (YAML or JSON) and returns
// it as YAML. Converting a converted workflow returns it unchanged.
func Workflow(in []byte, opts Options) ([]byte, error) {
	doc, err := decode(in)
	if err != nil {
		return nil, err
	}
	if _, err := Object(doc, opts); err != nil {
		return nil, err
	}
	return encode(doc)
}

// Object converts a decoded workflow (a JSON tree, numbers preferably as
// json.Number) in place and reports what it changed. On error doc may be
// partly converted and must be discarded. A workflow without driver
// templates, or one converted before, is left as it is.
func Object(doc map[string]any, opts Options) (Result, error) {
	spec, err := workflowSpec(doc)
	if err != nil {
		return Result{}, err
	}
	drivers, err := driverTemplates(spec)
	if err != nil {
		return Result{}, err
	}
	var res Result
	if opts.KeepNativeLine {
		for _, d := range drivers {
			if d.line == driver.LineNative {
				res.NativeLine = append(res.NativeLine, d.name)
			}
		}
		if len(res.NativeLine) > 0 {
			return res, nil
		}
	}
	if res.Templates, res.Names, err = convertTemplates(spec, drivers); err != nil {
		return Result{}, err
	}
	if res.PodMetadata, err = mergePodMetadata(spec, opts.PodMetadata); err != nil {
		return Result{}, err
	}
	return res, nil
}

func workflowSpec(doc map[string]any) (map[string]any, error) {
	if kind, _ := doc["kind"].(string); kind != "Workflow" {
		return nil, fmt.Errorf("kind %q: want an Argo Workflow", doc["kind"])
	}
	spec, ok := doc["spec"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("spec: want an object")
	}
	return spec, nil
}

// driverCall is a driver template found in spec.templates, with its flags.
type driverCall struct {
	index int
	name  string
	tmpl  map[string]any
	flags map[string]string
	line  driver.Line
}

// driverTemplates finds the driver templates in spec.templates and reads
// their command lines; a template with flags of both lines is an error.
func driverTemplates(spec map[string]any) ([]driverCall, error) {
	templates, ok := spec["templates"].([]any)
	if !ok {
		return nil, fmt.Errorf("spec.templates: want a list")
	}
	var out []driverCall
	for i, raw := range templates {
		t, ok := raw.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("spec.templates[%d]: want an object", i)
		}
		name, _ := t["name"].(string)
		argv, isDriver, err := driverCommand(t)
		if err == nil && isDriver {
			d := driverCall{index: i, name: name, tmpl: t}
			if d.flags, err = cmdline.Parse(argv); err == nil {
				d.line, err = cmdline.Line(d.flags)
			}
			out = append(out, d)
		}
		if err != nil {
			return nil, fmt.Errorf("template %q: %w", name, err)
		}
	}
	return out, nil
}

// convertTemplates replaces each driver template in spec.templates in place
// and returns the indexes and names of those it replaced.
func convertTemplates(spec map[string]any, drivers []driverCall) ([]int, []string, error) {
	templates := spec["templates"].([]any) // driverTemplates checked it
	var indexes []int
	var names []string
	for _, d := range drivers {
		converted, err := pluginTemplate(d.tmpl, d.flags)
		if err != nil {
			return nil, nil, fmt.Errorf("template %q: %w", d.name, err)
		}
		templates[d.index] = converted
		indexes, names = append(indexes, d.index), append(names, d.name)
	}
	return indexes, names, nil
}
