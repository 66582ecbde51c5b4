// Package drive is the one-shot mode: one driver step as a process, with
// the command line and output files of KFP's driver binary, so that this
// project's image can stand in for KFP's driver image (V2_DRIVER_IMAGE) in
// installs that keep a driver pod per task. The image puts the binary on
// PATH as `driver`, the command KFP's compiled workflows run.
//
// Decisions are those of `serve`: the same decoding (plugin.DecodeArgs) and
// the same driver (driver/flow). What differs is who is trusted. The sidecar
// serves every workflow of a namespace, so its services and CA file are the
// administrator's and a template naming others fails. A driver pod is the
// workflow's own pod, as in stock KFP: its command line names the MLMD and
// ml-pipeline services, and ca_cert_path is read from the pod's own disk
// when TLS is on. Component documents given as "@file" are still refused
// (KFP's compiler never emits them).
//
// Behaviour on failure, as KFP's driver: a message on stderr and exit
// status 1, no output file written. Transient failures (MLMD or the API
// server unreachable) are retried in the process for up to TransientBudget;
// every step is idempotent, so a retried or re-run step decides the same.
// Flags KFP's driver requires are not all required here: those absent take
// KFP's defaults, except the output files the step type writes.
package drive
