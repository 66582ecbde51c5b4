package executor

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"google.golang.org/protobuf/types/known/structpb"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/condition"
)

var (
	paramPlaceholder = regexp.MustCompile(`\{\{\$\.inputs\.parameters\['([^']+)'\]\}\}`)
	fieldPlaceholder = regexp.MustCompile(`\$\.inputs\.parameters\['([^']+)'\]`)
)

// resolveArgs resolves the user command or args: input parameter
// placeholders are substituted, IfPresent placeholders expanded, and
// anything mentioning outputs (or other placeholders) left to the launcher.
func resolveArgs(items []string, params map[string]*structpb.Value) ([]string, error) {
	var out []string
	for _, item := range items {
		switch {
		case strings.Contains(item, "$.outputs"):
			out = append(out, item)
		case strings.HasPrefix(strings.TrimSpace(item), `{"IfPresent":`):
			expanded, err := ifPresent(item, params)
			if err != nil {
				return nil, err
			}
			out = append(out, expanded...)
		default:
			s, err := substitute(item, params)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
	}
	return out, nil
}

// ifPresent expands {"IfPresent":{"InputName":..,"Then":..,"Else":..}}: a
// parameter is present when resolved and not null.
func ifPresent(item string, params map[string]*structpb.Value) ([]string, error) {
	var p struct {
		IfPresent struct {
			InputName string
			Then      json.RawMessage
			Else      json.RawMessage
		}
	}
	if err := json.Unmarshal([]byte(item), &p); err != nil {
		return nil, fmt.Errorf("IfPresent placeholder %q: %w", item, err)
	}
	branch := p.IfPresent.Else
	if v, ok := params[p.IfPresent.InputName]; ok && !isNull(v) {
		branch = p.IfPresent.Then
	}
	parts, err := branchItems(branch)
	if err != nil {
		return nil, fmt.Errorf("IfPresent placeholder for %q: %w", p.IfPresent.InputName, err)
	}
	return resolveArgs(parts, params)
}

func branchItems(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, fmt.Errorf("a branch must be a string or a list of strings, got %s", raw)
	}
	return many, nil
}

func substitute(s string, params map[string]*structpb.Value) (string, error) {
	var missing string
	out := paramPlaceholder.ReplaceAllStringFunc(s, func(m string) string {
		name := paramPlaceholder.FindStringSubmatch(m)[1]
		v, ok := params[name]
		if !ok {
			missing = name
			return m
		}
		return argText(v)
	})
	if missing != "" {
		return "", fmt.Errorf("placeholder for input parameter %q, which has no value", missing)
	}
	return out, nil
}

// argText is a parameter's command-line form: integral numbers without
// decimals, null as "", lists and structs as JSON.
func argText(v *structpb.Value) string {
	switch k := v.GetKind().(type) {
	case *structpb.Value_NumberValue:
		if k.NumberValue == float64(int64(k.NumberValue)) {
			return strconv.FormatInt(int64(k.NumberValue), 10)
		}
		return strconv.FormatFloat(k.NumberValue, 'g', -1, 64)
	case *structpb.Value_NullValue:
		return ""
	}
	return condition.Text(v)
}

func isNull(v *structpb.Value) bool {
	_, ok := v.GetKind().(*structpb.Value_NullValue)
	return ok
}

// wholeParam resolves a field that may name one input parameter (image,
// resource and accelerator strings): the whole field becomes that
// parameter's string value.
func wholeParam(field string, params map[string]*structpb.Value) (string, error) {
	m := fieldPlaceholder.FindStringSubmatch(field)
	if m == nil {
		return field, nil
	}
	v, ok := params[m[1]]
	if !ok {
		return "", fmt.Errorf("%q refers to input parameter %q, which has no value", field, m[1])
	}
	return v.GetStringValue(), nil
}
