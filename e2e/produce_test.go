package e2e

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/types/known/structpb"
)

// rules is what user code returns, keyed "task.output" or "task" (every
// output of task). A func(Call) any computes it from the task's inputs as
// the real code does: used only where the code cannot run here. A plain
// value is fixed by the case: it replaces what the code produced even when
// it ran (coin flips and other random results the checks depend on).
// Other outputs get DefaultOutput.
type rules map[string]any

func (r rules) produce() ProduceFunc {
	return func(c Call) *structpb.Value {
		rule, ok := r[c.Task+"."+c.Output]
		if !ok {
			rule, ok = r[c.Task]
		}
		if !ok {
			return DefaultOutput(c)
		}
		if f, isFunc := rule.(func(Call) any); isFunc {
			if c.Ran {
				return nil
			}
			rule = f(c)
		}
		v, err := structpb.NewValue(rule)
		if err != nil {
			panic(fmt.Sprintf("output %s.%s: %v", c.Task, c.Output, err))
		}
		return v
	}
}

// echo returns input name unchanged.
func echo(name string) func(Call) any {
	return func(c Call) any { return c.Inputs[name].AsInterface() }
}

// double returns twice the number in input name.
func double(name string) func(Call) any {
	return func(c Call) any { return 2 * c.Inputs[name].GetNumberValue() }
}

// sum adds the numbers of list input name.
func sum(name string) func(Call) any {
	return func(c Call) any {
		total := 0.0
		for _, v := range c.Inputs[name].GetListValue().GetValues() {
			total += v.GetNumberValue()
		}
		return total
	}
}

// add adds number inputs a and b.
func add(a, b string) func(Call) any {
	return func(c Call) any { return c.Inputs[a].GetNumberValue() + c.Inputs[b].GetNumberValue() }
}

// split splits string input name at commas.
func split(name string) func(Call) any {
	return func(c Call) any {
		var out []any
		for _, s := range strings.Split(c.Inputs[name].GetStringValue(), ",") {
			out = append(out, s)
		}
		return out
	}
}

// prefix prepends p to string input name.
func prefix(p, name string) func(Call) any {
	return func(c Call) any { return p + c.Inputs[name].GetStringValue() }
}

// field returns key of struct input name.
func field(name, key string) func(Call) any {
	return func(c Call) any { return c.Inputs[name].GetStructValue().GetFields()[key].AsInterface() }
}
