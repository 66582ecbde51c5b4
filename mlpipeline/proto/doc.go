// Package apipb holds the generated Go code for task.proto: the messages and
// the TaskService of KFP's v1beta1 API that the task cache uses, with KFP's
// package, names and field numbers so that it is wire compatible with a real
// ml-pipeline server. It is generated, not imported from KFP's backend
// module, to keep that module's dependency tree out of the plugin.
package apipb

//go:generate ./gen.sh
