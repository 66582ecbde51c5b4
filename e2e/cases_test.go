package e2e

// corpusCases are the compiled workflows run end to end, each with checks
// on values resolved downstream.
var corpusCases = []tcase{
	{
		file: "hello_world.yaml", covers: "one container task, constant args",
		checks: []check{ran("echo", 1), driverMessage("echo-driver", "cache miss")},
	},
	{
		file: "add_numbers.yaml", covers: "required pipeline parameters from the run's runtime config",
		params: map[string]any{"a": 1, "b": 2},
		checks: []check{param("add-numbers", "a", 1), param("add-numbers", "b", 2)},
	},
}
