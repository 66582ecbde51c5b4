// Package objectstore issues per-namespace object-store identities the way
// KFP's multi-user profile controller (sync.py) does on SeaweedFS: for a
// namespace that has no artifact Secret yet, an access key of the IAM user
// named like the namespace, a user policy confining it to the namespace's
// prefixes of the shared bucket, and the bucket-wide listing policy and
// lifecycle rule that complete that isolation.
//
// Who can read what, with the keys this package issues (bucket "mlpipeline"):
//   - private-artifacts/<ns>/ and private/<ns>/: only namespace <ns>'s key
//     (and the admin's, which may read and write but, like every principal
//     the bucket policy's deny covers, not list inside); another
//     namespace's key gets Access Denied for objects and for deep listing;
//   - artifacts/ and shared/: every namespace's key;
//   - anything else in the bucket, other buckets and the IAM API: no
//     namespace key, only the admin's; except that SeaweedFS lets a key
//     create further keys of its own user (they carry the same policy).
//
// What differs from sync.py, on purpose:
//   - A repeated sync before the Secret is stored (metacontroller retries,
//     or applies the Secret later) returns the same key instead of issuing a
//     second one; keys are kept in memory until the hook sees the Secret.
//   - Each step (key, user policy, bucket policy, lifecycle rule) that fails
//     is retried on the next sync and the key is handed out only after all
//     succeeded, so no Secret ever carries a key without its policy.
//   - The lifecycle rule is merged by its ID ("private-artifacts") into the
//     bucket's existing rules instead of replacing them, and removing it
//     (retention unset or not positive) leaves other rules alone.
//
// Left as sync.py leaves them: a namespace that is disabled or deleted keeps
// its IAM user and keys (the controller is not told; remove them with
// `weed shell` s3.configure -user <ns> -delete -apply); a controller restart
// between issuing a key and the Secret being stored leaves that key unused
// (logged when the next key is issued).
package objectstore
