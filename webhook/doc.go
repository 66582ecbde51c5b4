// Package webhook is the Kubernetes admission webhook that makes every run
// KFP creates go through the driver plugin, with no change to KFP:
//
//   - workflows (CREATE): KFP's driver container templates are converted by
//     convert.Object, the same code as the convert command, and answered as
//     a minimal JSON patch (one replace per converted template plus the
//     ConvertedAnnotation). Nothing to convert, already converted, opted out
//     (OptOutAnnotation) or not understood: no patch. A workflow of KFP
//     master's native line is left to its driver pods unless
//     Workflows.ConvertNativeLine (--convert-native-line) is set (opt-in: the
//     line is tested against the in-repo API server, not yet a real KFP
//     master one): its patch is only the NotConvertedAnnotation saying so.
//   - agent pods (CREATE): the admin's driver pod labels and annotations from
//     the plugin ConfigMap are added, keys the pod has are never overridden;
//     and the agent's ARGO_AGENT_PATCH_RATE is capped (AgentPods.PatchRate),
//     since Argo's default holds every driver answer for up to 10 s, and the
//     CPU limit of Argo's agent containers is raised (AgentPods.CPULimit),
//     since under Argo's 100m the agent pod takes seconds to start.
//
// Our bugs never reject a user's object: anything malformed is answered
// allowed with a warning and no patch.
//
// TLS comes from a mounted Secret (re-read when it changes, e.g. renewed by
// cert-manager) or is self-managed: each replica makes its own CA and
// serving certificate in memory, adds the CA to the caBundle of its own
// MutatingWebhookConfiguration (keeping the other replicas' unexpired CAs),
// and renews before expiry, adding the new CA before serving the new
// certificate. No Secret is shared, so the webhook needs no access to
// Secrets at all. Written here with crypto/x509 rather than taken from
// cert-manager or OPA's cert-controller: cert-controller's last release on
// our Kubernetes minor (v0.14.0) needs a controller-runtime manager
// (v0.21), moves every k8s.io module of this shared module to a newer
// patch, and stores its CA in a Secret the webhook would have to read and
// write; a CA, a certificate and the bundle upkeep are a few hundred lines
// here, tested with short validities.
package webhook
