// Command kfp-driver-plugin is the Kubeflow Pipelines v2 driver as an Argo
// Workflows executor plugin. This file only parses flags and wires packages.
//
//	kfp-driver-plugin serve      the executor-plugin HTTP server (the sidecar)
//	kfp-driver-plugin configmap  render the plugin ConfigMap from admin settings
//	kfp-driver-plugin convert    turn a KFP-compiled workflow's driver steps into plugin templates
//	kfp-driver-plugin sync       the multi-user profile controller's sync hook
//	kfp-driver-plugin webhook    the admission webhook that converts the workflows KFP creates
//	kfp-driver-plugin drive      one driver step as a process, KFP's driver command line (also as `driver`)
//	kfp-driver-plugin version    print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/golang/glog"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/convert"
	driveStep "github.com/kfp-driver-plugin/kfp-driver-plugin/drive"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/flow"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driverlog"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/kube"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/objectstore"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/plugin"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/pluginconfig"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/profile"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/runtoken"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/webhook"
)

// version is set at build time (-ldflags "-X main.version=...").
var version = pluginconfig.Version

const usage = `usage: kfp-driver-plugin <command> [flags]

commands:
  serve      serve the Argo executor-plugin API (run as the agent pod sidecar)
  configmap  render the plugin ConfigMap (or plugin.yaml) from admin settings
  convert    rewrite a KFP-compiled workflow's driver steps as plugin templates
             (convert [-f FILE] [--plugin-configmap FILE]; stdin when no -f; YAML to stdout)
  sync       serve the profile controller's metacontroller sync hook (multi-user)
  webhook    serve the admission webhook: KFP's workflows get plugin templates, agent pods the admin's metadata
  drive      run one driver step with KFP's driver flags and output files (a drop-in for
             KFP's driver image; the binary also does this when invoked as "driver")
  version    print the version
`

func main() {
	if filepath.Base(os.Args[0]) == driverCommand {
		exit(drive(os.Args[1:]))
	}
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "serve":
		err = serve(args)
	case "configmap":
		err = configmap(args, os.Stdout, os.Stderr)
	case "convert":
		err = convertWorkflow(args, os.Stdin, os.Stdout)
	case "sync":
		err = syncHook(args)
	case "webhook":
		err = admissionWebhook(args)
	case "drive":
		err = drive(args)
	case "version":
		fmt.Println(version)
	case "-h", "--help", "help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "unknown command %q\n%s", cmd, usage)
		os.Exit(2)
	}
	exit(err)
}

func exit(err error) {
	glog.Flush()
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// driverCommand is the name KFP's compiled workflows run in the driver
// image; the image links it to this binary.
const driverCommand = "driver"

// drive runs one step. Its flags are KFP's driver's, so nothing of ours is
// added to them.
func drive(args []string) error {
	_ = flag.Set("logtostderr", "true") // a read-only root has no room for glog's files
	kube, err := kubeClient("")
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	_, err = driveStep.Run(ctx, args, driveStep.Env{
		Namespace: plugin.PodNamespace(os.Getenv, plugin.ServiceAccountNamespaceFile),
		Kube:      kube, Log: os.Stdout,
		// KFP's driver pod mounts its run token there (KFP without
		// authentication mounts none: no token is sent).
		APIToken: runtoken.FileIfPresent(runtoken.KFPTokenPath),
	})
	return err
}

// newFlags returns a flag set that also carries glog's flags (-v, ...),
// logging to stderr unless told otherwise.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ExitOnError)
	flag.CommandLine.VisitAll(func(f *flag.Flag) { fs.Var(f.Value, f.Name, f.Usage) })
	_ = fs.Set("logtostderr", "true")
	return fs
}

func serve(args []string) error {
	cfg := plugin.DefaultConfig()
	fs := newFlags("serve")
	addr := fs.String("addr", fmt.Sprintf(":%d", pluginconfig.Port), "listen address")
	tokenFile := fs.String("token-file", "/var/run/argo/token", "bearer token file written by Argo's agent")
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig for the Kubernetes API (default: in-cluster config)")
	grace := fs.Duration("shutdown-grace", 10*time.Second, "how long calls in progress may finish on SIGTERM")
	fs.DurationVar(&cfg.Wait, "wait", cfg.Wait, "answer Running + requeue when the driver takes longer (keep under Argo's 30s)")
	fs.DurationVar(&cfg.Requeue, "requeue", cfg.Requeue, "requeue for a call still running")
	fs.DurationVar(&cfg.TransientRequeue, "transient-requeue", cfg.TransientRequeue, "requeue after a transient error (e.g. metadata store down)")
	fs.DurationVar(&cfg.Runs.RunTimeout, "run-timeout", cfg.Runs.RunTimeout, "longest a single driver run may take")
	fs.IntVar(&cfg.Runs.MaxEntries, "max-remembered", cfg.Runs.MaxEntries, "call outcomes remembered for idempotency")
	fs.DurationVar(&cfg.Runs.MaxAge, "remember-for", cfg.Runs.MaxAge, "how long a call outcome is remembered")
	fs.DurationVar(&cfg.Runs.FailedMaxAge, "remember-failed-for", cfg.Runs.FailedMaxAge, "how long a failed call outcome is remembered")
	fs.Int64Var(&cfg.Runs.MaxBytes, "max-remembered-bytes", cfg.Runs.MaxBytes, "bytes of call outcomes remembered for idempotency")
	fs.Int64Var(&cfg.MaxBodyBytes, "max-request-bytes", cfg.MaxBodyBytes, "largest request body; larger calls fail their node naming the limit")
	fs.DurationVar(&cfg.BodyTimeout, "body-timeout", cfg.BodyTimeout, "longest a request body may take to arrive")
	fs.DurationVar(&cfg.TransientBudget, "transient-budget", cfg.TransientBudget, "how long one call is retried on transient errors before its node fails")
	caFile := endpointFlags(fs, &cfg.Endpoints)
	apiToken := fs.String("api-token", pluginconfig.APITokenRequest, "how the native line's KFP API calls authenticate: "+
		pluginconfig.APITokenRequest+" (a token of $"+pluginconfig.EnvServiceAccount+", the workflow's account, for the run's audience) or "+
		pluginconfig.APITokenNone+" (KFP without authentication)")
	logsEndpoint := fs.String("driver-logs-endpoint", "", "S3 endpoint (http(s)://host[:port]) where each step's driver log is kept, with the key in $"+
		pluginconfig.DriverLogsAccessKeyEnv+"/$"+pluginconfig.DriverLogsSecretKeyEnv+"; empty: stderr only")
	fs.Parse(args)
	if err := loadEndpoints(&cfg.Endpoints, *caFile); err != nil {
		return err
	}

	cfg.Auth = plugin.NewTokenFile(*tokenFile)
	cfg.PodNamespace = plugin.PodNamespace(os.Getenv, plugin.ServiceAccountNamespaceFile)
	kube, err := kubeClient(*kubeconfig)
	if err != nil {
		return err
	}
	tokens, err := runTokens(*apiToken, kube, cfg.PodNamespace, os.Getenv(pluginconfig.EnvServiceAccount))
	if err != nil {
		return err
	}
	cfg.Metrics = plugin.NewMetrics()
	logs, err := driverLogUploader(*logsEndpoint, cfg.Metrics)
	if err != nil {
		return err
	}
	drv := flow.New(flow.Deps{Kube: kube, Endpoints: cfg.Endpoints, DriverLogs: logs != nil, APIToken: tokens})
	cfg.Driver = drv
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go prepare(ctx, drv)
	if logs != nil {
		go logs.Run(ctx)
		cfg.Driver = driverlog.Recorder{Next: cfg.Driver, Uploader: logs}
	}
	return plugin.Serve(ctx, plugin.New(cfg), *addr, *grace, nil)
}

// runTokens is the native line's token source for --api-token. The
// sidecar cannot mount KFP's per-run token, so it mints the same one for
// the workflow's account. Without the account or a Kubernetes client it
// still starts (the MLMD line needs neither) and native calls fail saying
// why.
func runTokens(mode string, k kube.Interface, namespace, account string) (kfpapi.TokenSource, error) {
	switch mode {
	case pluginconfig.APITokenNone:
		return nil, nil
	case pluginconfig.APITokenRequest:
	default:
		return nil, fmt.Errorf("serve: --api-token %q: want %s or %s", mode, pluginconfig.APITokenRequest, pluginconfig.APITokenNone)
	}
	tc, _ := k.(kube.TokenCreator)
	var missing string
	switch {
	case tc == nil:
		missing = "no Kubernetes API client"
	case account == "":
		missing = "$" + pluginconfig.EnvServiceAccount + " is not set (re-render the plugin ConfigMap: its sidecar gets it from the downward API)"
	case namespace == "":
		missing = "the pod's namespace is unknown"
	}
	if missing != "" {
		glog.Warningf("--api-token=%s: %s; native-line calls will fail", mode, missing)
		return func(context.Context, string) (string, error) {
			return "", fmt.Errorf("--api-token=%s: %s", mode, missing)
		}, nil
	}
	return runtoken.NewMinter(tc, namespace, account).Source(), nil
}

// prepare readies the driver's MLMD while the server starts; calls do not
// wait for it.
func prepare(ctx context.Context, drv *flow.Service) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := drv.Prepare(ctx); err != nil {
		glog.Warningf("MLMD not ready at start-up (each call connects and retries on its own): %v", err)
	}
}

// driverLogUploader keeps every step's log in the object store too, when
// an endpoint is given and the namespace's key is in the environment (its
// Secret is optional: without it, stderr only); nil when off.
func driverLogUploader(endpoint string, m *plugin.Metrics) (*driverlog.Uploader, error) {
	if endpoint == "" {
		return nil, nil
	}
	key := objectstore.Key{AccessKey: os.Getenv(pluginconfig.DriverLogsAccessKeyEnv), SecretKey: os.Getenv(pluginconfig.DriverLogsSecretKeyEnv)}
	if key.AccessKey == "" || key.SecretKey == "" {
		glog.Warningf("driver logs stay on stderr: no key in $%s/$%s (the namespace has no %s Secret)",
			pluginconfig.DriverLogsAccessKeyEnv, pluginconfig.DriverLogsSecretKeyEnv, pluginconfig.ArtifactSecret)
		return nil, nil
	}
	up, err := driverlog.NewUploader(driverlog.Config{Endpoint: endpoint, Key: key}, m.DriverLog)
	if err != nil {
		return nil, fmt.Errorf("serve: --driver-logs-endpoint: %w", err)
	}
	return up, nil
}

// endpointFlags registers the services the driver uses. They are the
// admin's (the plugin ConfigMap's args), never a template's; templates
// naming others fail. It returns the CA file flag.
func endpointFlags(fs *flag.FlagSet, ep *driver.Endpoints) *string {
	fs.StringVar(&ep.MLMDHost, "mlmd-address", ep.MLMDHost, "ML Metadata gRPC service host")
	fs.StringVar(&ep.MLMDPort, "mlmd-port", ep.MLMDPort, "ML Metadata gRPC service port")
	fs.BoolVar(&ep.MetadataTLS, "metadata-tls", ep.MetadataTLS, "use TLS to ML Metadata")
	fs.StringVar(&ep.MLPipelineHost, "ml-pipeline-address", ep.MLPipelineHost, "ml-pipeline API server host (task cache)")
	fs.StringVar(&ep.MLPipelinePort, "ml-pipeline-port", ep.MLPipelinePort, "ml-pipeline API server gRPC port")
	fs.BoolVar(&ep.MLPipelineTLS, "ml-pipeline-tls", ep.MLPipelineTLS, "use TLS to the ml-pipeline API server")
	fs.Func("launcher-ca-cert-paths", "comma-separated ca_cert_path values templates may pass to the launcher (default "+
		strings.Join(ep.LauncherCACertPaths, ",")+"; empty: none)", func(v string) error {
		ep.LauncherCACertPaths = nil
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				ep.LauncherCACertPaths = append(ep.LauncherCACertPaths, p)
			}
		}
		return nil
	})
	return fs.String("ca-cert-file", "", "PEM CA bundle trusted for TLS to both services, besides the system roots")
}

// loadEndpoints validates the endpoints and reads the CA file, once and
// size-bounded.
func loadEndpoints(ep *driver.Endpoints, caFile string) error {
	if err := ep.Validate(); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	if caFile == "" {
		return nil
	}
	pem, err := plugin.ReadCAFile(caFile)
	if err != nil {
		return fmt.Errorf("serve: --ca-cert-file: %w", err)
	}
	ep.CAPEM = pem
	return nil
}

// kubeClient connects with the kubeconfig when given, else in-cluster. Out
// of a cluster and without a kubeconfig the driver runs without one (the
// kfp-launcher ConfigMap is not read and PVC tasks fail with a clear error).
// It is our small core/v1 client, not client-go's clientset: the clientset's
// scheme alone would double the sidecar's idle memory.
func kubeClient(kubeconfig string) (kube.Interface, error) {
	var cfg *rest.Config
	var err error
	if kubeconfig != "" {
		cfg, err = clientcmd.BuildConfigFromFlags("", kubeconfig)
	} else if cfg, err = rest.InClusterConfig(); errors.Is(err, rest.ErrNotInCluster) {
		glog.Warning("not in a cluster and no --kubeconfig: running without the Kubernetes API")
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	c, err := kube.NewForConfig(cfg)
	if err != nil {
		return nil, err // a nil *kube.Client must not become a non-nil Interface
	}
	return c, nil
}

func configmap(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("configmap")
	out := fs.String("o", "", "write to this file instead of stdout")
	image := fs.String("image", "", "plugin image (default $"+pluginconfig.EnvImage+", else "+pluginconfig.DefaultImage+")")
	configFile := fs.String("config-file", "", "driver-config file (the kfp-driver-config ConfigMap key, mounted)")
	namespace := fs.String("namespace", "", "metadata.namespace of the ConfigMap (default: none, set by kubectl/kustomize)")
	format := fs.String("format", "configmap", "configmap | plugin (the plugin.yaml ExecutorPlugin manifest)")
	fs.Parse(args)

	src := pluginconfig.Sources{Lookup: os.LookupEnv, Image: *image, FileName: *configFile}
	if *configFile != "" {
		b, err := os.ReadFile(*configFile)
		if err != nil {
			return err
		}
		src.ConfigFile = b
	}
	settings, warnings, err := pluginconfig.Load(src)
	for _, w := range warnings {
		fmt.Fprintln(stderr, "warning:", w)
	}
	if err != nil {
		return fmt.Errorf("invalid driver settings:\n%w", err)
	}
	var doc any
	switch *format {
	case "configmap":
		if doc, err = settings.ConfigMap(*namespace); err != nil {
			return err
		}
	case "plugin":
		doc = settings.Plugin()
	default:
		return fmt.Errorf("unknown --format %q (want configmap or plugin)", *format)
	}
	b, err := yaml.Marshal(doc)
	if err != nil {
		return err
	}
	if *out == "" {
		_, err = stdout.Write(b)
		return err
	}
	return os.WriteFile(*out, b, 0o644)
}

// syncHook serves the DecoratorController sync hook. Settings come from the
// environment (sync.py's names); --addr defaults to :$CONTROLLER_PORT.
func syncHook(args []string) error {
	fs := newFlags("sync")
	addr := fs.String("addr", "", "listen address (default :$"+profile.EnvControllerPort+", else :8080)")
	grace := fs.Duration("shutdown-grace", 5*time.Second, "how long syncs in progress may finish on SIGTERM")
	fs.Parse(args)

	settings, err := profile.LoadSettings(os.Environ())
	if err != nil {
		return fmt.Errorf("invalid profile controller settings:\n%w", err)
	}
	metadata := profile.NewPodMetadataSource(settings.PodMetadataDir)
	if _, err := metadata.Load(); err != nil {
		return err
	}
	keys, err := settings.Issuer()
	if err != nil {
		return err
	}
	if *addr == "" {
		*addr = fmt.Sprintf(":%d", settings.ControllerPort)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	return profile.Serve(ctx, profile.NewHandler(settings, metadata, keys), *addr, *grace, nil)
}

func convertWorkflow(args []string, stdin io.Reader, stdout io.Writer) error {
	fs := newFlags("convert")
	file := fs.String("f", "-", "KFP-compiled workflow `FILE`, YAML or JSON (- for stdin)")
	cmFile := fs.String("plugin-configmap", "", "plugin ConfigMap `FILE` (as the configmap command renders it); its driver pod labels/annotations are added to spec.podMetadata")
	fs.Parse(args)
	if fs.NArg() > 0 {
		return fmt.Errorf("convert: unexpected arguments %q", fs.Args())
	}
	var opts convert.Options
	if *cmFile != "" {
		b, err := os.ReadFile(*cmFile)
		if err != nil {
			return err
		}
		if opts.PodMetadata, err = convert.PodMetadataFromConfigMap(b); err != nil {
			return fmt.Errorf("%s: %w", *cmFile, err)
		}
	}
	in, err := readFileOr(*file, stdin)
	if err != nil {
		return err
	}
	out, err := convert.Workflow(in, opts)
	if err != nil {
		return fmt.Errorf("%s: %w", map[bool]string{true: "stdin", false: *file}[*file == "-"], err)
	}
	_, err = stdout.Write(out)
	return err
}

// readFileOr reads name, or r when name is "-".
func readFileOr(name string, r io.Reader) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(r)
	}
	return os.ReadFile(name)
}

func admissionWebhook(args []string) error {
	cfg := webhook.Config{}
	fs := newFlags("webhook")
	fs.StringVar(&cfg.Addr, "addr", ":8443", "listen address (HTTPS)")
	fs.DurationVar(&cfg.Grace, "shutdown-grace", 10*time.Second, "how long admissions in progress may finish on SIGTERM")
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig for the Kubernetes API (default: in-cluster config)")
	fs.StringVar(&cfg.ConfigNamespace, "config-namespace", os.Getenv("POD_NAMESPACE"), "namespace of the plugin ConfigMap (default $POD_NAMESPACE)")
	fs.StringVar(&cfg.ConfigMapName, "configmap", pluginconfig.ConfigMapName, "plugin ConfigMap with the agent pod labels and annotations")
	fs.BoolVar(&cfg.Workflows.ConvertNativeLine, "convert-native-line", false,
		"also convert workflows compiled by KFP master (the native line, no ML Metadata); off: they keep KFP's driver pods and get the "+
			webhook.NotConvertedAnnotation+" annotation, since the plugin's driver does not serve that line yet")
	fs.DurationVar(&cfg.AgentPatchRate, "agent-patch-rate", webhook.DefaultAgentPatchRate,
		"cap on the agent pods' ARGO_AGENT_PATCH_RATE (how long a driver result may wait before Argo sees it); 0: leave it")
	cpu := fs.String("agent-cpu-limit", webhook.DefaultAgentCPULimit.String(),
		"raise the CPU limit of Argo's agent containers in KFP's agent pods to at least this (Argo gives 100m); 0: leave it")
	fs.StringVar(&cfg.CertFile, "tls-cert-file", "", "serving certificate (a mounted Secret); empty: self-managed")
	fs.StringVar(&cfg.KeyFile, "tls-key-file", "", "serving key, with --tls-cert-file")
	service := fs.String("service", "kfp-driver-plugin-webhook", "self-managed TLS: the webhook's Service, named in the certificate")
	serviceNS := fs.String("service-namespace", os.Getenv("POD_NAMESPACE"), "self-managed TLS: the Service's namespace (default $POD_NAMESPACE)")
	sans := fs.String("tls-san", "", "self-managed TLS: extra DNS names or IPs, comma-separated")
	fs.StringVar(&cfg.WebhookConfigName, "webhook-config", "admission-kfp-driver-plugin", "self-managed TLS: MutatingWebhookConfiguration whose caBundle is kept")
	fs.DurationVar(&cfg.Validity, "cert-validity", webhook.DefaultValidity, "self-managed TLS: validity of the CA and certificate (renewed with a third left)")
	fs.DurationVar(&cfg.Propagation, "ca-propagation", webhook.DefaultPropagation, "self-managed TLS: time between publishing a renewed CA and serving its certificate")
	fs.Parse(args)

	var err error
	if cfg.AgentCPULimit, err = resource.ParseQuantity(*cpu); err != nil {
		return fmt.Errorf("webhook: --agent-cpu-limit: %w", err)
	}
	cfg.DNSNames, cfg.IPs = webhook.ServingNames(*service, *serviceNS, *sans)
	rc, err := restConfig(*kubeconfig)
	if err != nil {
		return err
	}
	cfg.RESTConfig = rc
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	return webhook.Run(ctx, cfg)
}

// restConfig is the kubeconfig's when given, else the in-cluster one.
func restConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig != "" {
		cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
		if err != nil {
			return nil, fmt.Errorf("kubeconfig %s: %w", kubeconfig, err)
		}
		return cfg, nil
	}
	cfg, err := rest.InClusterConfig()
	if err != nil {
		return nil, fmt.Errorf("kubernetes client (no --kubeconfig): %w", err)
	}
	return cfg, nil
}
