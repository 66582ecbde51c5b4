package platform

import (
	"fmt"
)

// FieldError is an invalid or unsupported value in the platform config. Field
// is the path inside kubernetes_config in its JSON spelling, for example
// "emptyDirMounts[0].sizeLimit". Err may wrap an error from Inputs, so a
// transient failure to resolve a parameter stays detectable with errors.As.
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return "kubernetes_config: " + e.Err.Error()
	}
	return "kubernetes_config." + e.Field + ": " + e.Err.Error()
}

func (e *FieldError) Unwrap() error { return e.Err }

// fieldErr builds a FieldError; %w in format wraps as fmt.Errorf does.
func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Err: fmt.Errorf(format, args...)}
}

func at(field string, i int) string { return fmt.Sprintf("%s[%d]", field, i) }
