// Package argov4 checks the plugin against Argo Workflows v4, the line KFP
// master targets (v4.0.5 and later), with Argo's own code: converted
// workflows through v4's strict parser and ValidateWorkflow, and the
// executor-plugin wire types through v4's ExecuteTemplateArgs/Reply.
//
// It is a module of its own so that v4 (whose only release on the module
// proxy, v4.0.5, has reported vulnerabilities) is a test-only dependency:
// the main module, and so the shipped binary, never requires it. It holds
// tests only; `make unit` runs them.
package argov4
