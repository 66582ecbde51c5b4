// Package mlpipeline is a small gRPC client for the part of KFP's
// ml-pipeline API server that the task cache uses: TaskService.ListTasksV1
// (cache lookup) and TaskService.CreateTaskV1 (cache entry). The messages
// come from ./proto, a wire-compatible copy of KFP's v1beta1 definitions,
// so the plugin does not depend on KFP's backend module.
//
// What is reproduced from KFP's cacheutils client:
//   - the gRPC paths /api.TaskService/ListTasksV1 and /api.TaskService/CreateTaskV1;
//   - a 100 MiB receive limit;
//   - plaintext by default, TLS when asked, with an optional extra CA bundle.
//
// Deviations, all invisible to the server:
//   - every RPC gets a deadline (KFP's lookup uses context.Background());
//   - connections are pooled per address and TLS setting and reused across
//     driver calls, since the plugin is a long-running process and KFP's
//     driver is a one-shot binary;
//   - EncodeFilter URL-escapes the filter JSON. KFP's server always
//     URL-unescapes it before parsing, so the server sees the same JSON;
//     KFP's driver sends it unescaped, which the server mangles when a
//     pipeline name contains '+' or '%'.
package mlpipeline
