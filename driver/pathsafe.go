package driver

import (
	"errors"
	"strings"
)

// CheckPathComponent rejects a value that becomes part of a storage path
// (pipeline root <root>/<pipeline_name>/<run_id>/<task_name>/..., output
// names) and could climb out of it: a "." or ".." segment, a backslash (a
// separator for some stores and tools) or a control character. Names KFP
// compiles never contain them.
func CheckPathComponent(v string) error {
	for _, seg := range strings.Split(v, "/") {
		if seg == "." || seg == ".." {
			return errors.New(`must not contain "." or ".." path segments (it becomes part of the pipeline root's paths)`)
		}
	}
	for _, r := range v {
		if r == '\\' || r < 0x20 || r == 0x7f {
			return errors.New("must not contain backslashes or control characters (it becomes part of the pipeline root's paths)")
		}
	}
	return nil
}
