// Package platform applies a task's kfp-kubernetes platform config
// (KubernetesExecutorConfig, the driver's kubernetes_config argument) to the
// pod spec patch the container driver built. Apply is the entry point;
// PodFor wraps a patch in a Pod for an API server dry run.
//
// # What is mapped
//
// Onto the container "main" and the pod, in KFP's order:
//
//   - pvcMount: volume and mount named after the PVC, with subPath
//   - imagePullPolicy: main's pull policy (Always, Never, IfNotPresent)
//   - nodeSelector: labels, or nodeSelectorJson (wins)
//   - tolerations: static, or tolerationJson (one object or a list)
//   - secretAsVolume, configMapAsVolume: volume named after the secret or
//     config map, optional defaulting to false
//   - secretAsEnv, configMapAsEnv: one env var per key, optional only if set
//   - imagePullSecret: pod pull secrets
//   - fieldPathAsEnv: env vars from pod fields
//   - activeDeadlineSeconds: the pod's deadline (kfp-kubernetes set_timeout)
//   - genericEphemeralVolume: ephemeral PVC template volume and mount
//   - emptyDirMounts: emptyDir volume (medium, sizeLimit) and mount
//   - nodeAffinity: static terms (weight: preferred, else required) and
//     nodeAffinityJson, merged into affinity.nodeAffinity
//   - securityContext: runAsUser, runAsGroup, runAsNonRoot where the admin
//     left them unset; capabilities always drop ALL
//   - initContainers: validated, hardened (no privilege escalation, drop ALL,
//     seccomp RuntimeDefault, admin identity), restartPolicy Always allowed
//   - the admin defaults of Options: identity on main, hostUsers on the pod
//
// podMetadata is accepted but not applied: a pod spec patch cannot carry pod
// metadata, and KFP's compiler already put it on the executor template.
//
// Names given as parameters (secretNameParameter, pvcNameParameter, ...,
// and the JSON parameters) are resolved through Inputs like task inputs.
// When one resolves to null (an optional pipeline input without a value) the
// entry is skipped, as in KFP, except for PVC mounts, which then fail; the
// Summary lists what was skipped.
//
// # Fields newer than the Go module
//
// The kubernetes_platform Go module this project builds against predates
// most of what current SDKs emit. Apply therefore decodes the raw protojson
// (Request.KubernetesConfigJSON) into this package's own mirror of the
// current proto, and only falls back to the generated type when no raw JSON
// is given. Handled from the raw JSON: secretNameParameter,
// configMapNameParameter, pvcNameParameter, optional on secretAsEnv and
// configMapAsEnv, pvcMount.subPath, nodeSelector.nodeSelectorJson,
// tolerations[].tolerationJson, nodeAffinity[].nodeAffinityJson,
// securityContext and initContainers.
//
// Every key of the raw config is checked, recursively, against the fields
// this package handles (keys.go); an unknown key fails the task with an
// error naming it instead of being dropped. podResourceClaims (dynamic
// resource allocation) is known but rejected: KFP's naming for the claims
// is not specified anywhere we can follow.
//
// # Where we deviate from KFP, and why
//
//   - podAffinity and enabledSharedMemory are in the proto but KFP's driver
//     ignores them, so users get silently nothing. We apply them: pod
//     (anti-)affinity terms the way nodeAffinity maps (weight: preferred),
//     and shared memory as a memory-backed emptyDir (default name "dshm")
//     at /dev/shm, as KFP's newer compiler path does.
//   - KFP appends volumes and mounts blindly; two entries for one PVC or a
//     secret and a config map of the same name make a pod the API server
//     rejects after the driver reported success. We reuse an identical
//     volume or mount and reject a conflicting one. Likewise invalid values
//     KFP passes through (unknown access modes, which it turns into "",
//     negative deadlines, bad tolerations, operators, weights, quantities,
//     label keys, volume names that are not DNS-1123 labels) are errors here
//     naming the field, not pod creation failures later.
//   - JSON parameters are decoded strictly: an unknown key in
//     nodeAffinityJson or tolerationJson is an error (KFP drops it), and a
//     nodeSelectorJson that is not an object of strings is an error (KFP
//     yields an empty selector).
//   - Node selector and tolerations are merged with what the patch already
//     has rather than replacing it (the container driver sets neither, so
//     the result is the same for KFP's own patches).
//   - Init containers may not be named kfp-launcher, main, init or wait:
//     the patch is merged by container name into a pod that has them.
//     Their volume mounts must name a volume of the patch, as the proto asks.
//   - Ignored user security context values and empty node affinity terms
//     are reported in Summary.Warnings (KFP only logs them).
//
// Task config passthrough (component.taskConfigPassthroughs) is not
// handled here: everything is applied to the pod.
package platform
