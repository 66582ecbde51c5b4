package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/testenv"
)

// No compiled workflow in the corpus has a ParallelFor over artifacts (an
// artifactIterator: KFP's own driver answers "not implemented", so its
// tests compile none). deriveArtifactLoop builds one from the compiled
// pipeline_with_collected_artifacts.yaml, where for-loop-2 writes one
// artifact per item and read-and-join reads them collected: it adds
// for-loop-3, which iterates over that collected artifact list (as the
// KFP SDK writes it for GH-12033's pipeline, the spec in
// driver/testdata/pipelines) and hands each artifact to print-artifact.
// The added Argo templates copy the compiled for-loop-2 ones (iterator DAG
// with the DAG driver's iteration-count, iteration DAG, body DAG) and use
// the compiled driver container templates, so `convert` treats the
// result like any corpus workflow. The result is derived, not compiled
// by KFP: the case says so.
const artifactLoopSource = "pipeline_with_collected_artifacts.yaml"

const (
	listInput = "pipelinechannel--for-loop-2-pipelinechannel--write-artifact-out"
	itemInput = listInput + "-loop-item"
)

var (
	artifactType = map[string]any{"schemaTitle": "system.Artifact", "schemaVersion": "0.0.1"}
	loop3Task    = map[string]any{
		"componentRef":     map[string]any{"name": "comp-for-loop-3"},
		"dependentTasks":   []any{"for-loop-2"},
		"inputs":           map[string]any{"artifacts": map[string]any{listInput: taskOutputArtifact("for-loop-2", "pipelinechannel--write-artifact-out")}},
		"artifactIterator": map[string]any{"itemInput": itemInput, "items": map[string]any{"inputArtifact": listInput}},
		"taskInfo":         map[string]any{"name": "for-loop-3"},
	}
	loop3Component = map[string]any{
		"dag": map[string]any{"tasks": map[string]any{"print-artifact": printArtifactTask}},
		"inputDefinitions": map[string]any{"artifacts": map[string]any{
			listInput: map[string]any{"artifactType": artifactType, "isArtifactList": true},
			itemInput: map[string]any{"artifactType": artifactType},
		}},
	}
	printArtifactTask = map[string]any{
		"cachingOptions": map[string]any{"enableCache": true},
		"componentRef":   map[string]any{"name": "comp-print-artifact"},
		"inputs":         map[string]any{"artifacts": map[string]any{"a": map[string]any{"componentInputArtifact": itemInput}}},
		"taskInfo":       map[string]any{"name": "print-artifact"},
	}
	printArtifactComponent = map[string]any{"executorLabel": "exec-print-artifact",
		"inputDefinitions": map[string]any{"artifacts": map[string]any{"a": map[string]any{"artifactType": artifactType}}}}
	printArtifactImpl = map[string]any{"command": []any{"cat"}, "args": []any{"{{$.inputs.artifacts['a'].path}}"}, "image": "python:3.11"}
)

func taskOutputArtifact(task, key string) map[string]any {
	return map[string]any{"taskOutputArtifact": map[string]any{"outputArtifactKey": key, "producerTask": task}}
}

// loop3Templates are the Argo templates for for-loop-3, in the compiled
// form of comp-for-loop-2's (TASK and BODYTASK are replaced).
const loop3Templates = `
- name: comp-for-loop-3-for-loop-3-iterator
  inputs: {parameters: [{name: parent-dag-id}]}
  dag:
    tasks:
    - name: iteration-driver
      template: system-dag-driver
      arguments:
        parameters:
        - {name: component, value: '{{workflow.parameters.components-comp-for-loop-3}}'}
        - {name: parent-dag-id, value: '{{inputs.parameters.parent-dag-id}}'}
        - {name: task, value: 'TASK'}
        - {name: task-name, value: for-loop-3}
    - name: iteration-iterations
      template: comp-for-loop-3-iteration
      depends: iteration-driver.Succeeded
      withSequence: {count: '{{tasks.iteration-driver.outputs.parameters.iteration-count}}'}
      arguments:
        parameters:
        - {name: parent-dag-id, value: '{{tasks.iteration-driver.outputs.parameters.execution-id}}'}
        - {name: iteration-index, value: '{{item}}'}
- name: comp-for-loop-3-iteration
  inputs: {parameters: [{name: parent-dag-id}, {name: iteration-index}]}
  dag:
    tasks:
    - name: iteration-item-driver
      template: system-dag-driver
      arguments:
        parameters:
        - {name: component, value: '{{workflow.parameters.components-comp-for-loop-3}}'}
        - {name: iteration-index, value: '{{inputs.parameters.iteration-index}}'}
        - {name: parent-dag-id, value: '{{inputs.parameters.parent-dag-id}}'}
        - {name: task, value: 'TASK'}
        - {name: task-name, value: for-loop-3}
    - name: iteration-item
      template: comp-for-loop-3
      depends: iteration-item-driver.Succeeded
      arguments:
        parameters:
        - {name: parent-dag-id, value: '{{tasks.iteration-item-driver.outputs.parameters.execution-id}}'}
        - {name: condition, value: '{{tasks.iteration-item-driver.outputs.parameters.condition}}'}
- name: comp-for-loop-3
  inputs: {parameters: [{name: parent-dag-id}]}
  dag:
    tasks:
    - name: print-artifact-driver
      template: system-container-driver
      arguments:
        parameters:
        - {name: component, value: '{{workflow.parameters.components-comp-print-artifact}}'}
        - {name: task, value: 'BODYTASK'}
        - {name: container, value: '{{workflow.parameters.implementations-comp-print-artifact}}'}
        - {name: task-name, value: print-artifact}
        - {name: parent-dag-id, value: '{{inputs.parameters.parent-dag-id}}'}
    - name: print-artifact
      template: system-container-executor
      depends: print-artifact-driver.Succeeded
      arguments:
        parameters:
        - {name: pod-spec-patch, value: '{{tasks.print-artifact-driver.outputs.parameters.pod-spec-patch}}'}
        - {name: cached-decision, default: 'false', value: '{{tasks.print-artifact-driver.outputs.parameters.cached-decision}}'}
`

// deriveArtifactLoop writes the derived workflow into dir and returns its
// path.
func deriveArtifactLoop(dir string) (string, error) {
	return derive(dir, artifactLoopSource, "parallelfor_over_artifacts", func(spec map[string]any) error {
		if err := addLoop3Parameters(spec); err != nil {
			return err
		}
		return addLoop3Templates(spec)
	})
}

// derive reads corpus workflow source, lets edit change its spec, names it
// name and writes it to dir; it returns the path written.
func derive(dir, source, name string, edit func(spec map[string]any) error) (string, error) {
	root, err := testenv.RepoRoot()
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(filepath.Join(root, CorpusDir, source))
	if err != nil {
		return "", err
	}
	var wf map[string]any
	if err := yaml.Unmarshal(b, &wf); err != nil {
		return "", err
	}
	if err := edit(wf["spec"].(map[string]any)); err != nil {
		return "", fmt.Errorf("deriving %s from %s: %w", name, source, err)
	}
	wf["metadata"] = map[string]any{"generateName": strings.ReplaceAll(name, "_", "-") + "-"}
	out, err := yaml.Marshal(wf)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, name+".yaml")
	return path, os.WriteFile(path, out, 0o644)
}

// addLoop3Parameters adds the new components and the root DAG's new task
// to the workflow parameters that carry the pipeline spec.
func addLoop3Parameters(spec map[string]any) error {
	args := spec["arguments"].(map[string]any)
	params := args["parameters"].([]any)
	for _, p := range params {
		p := p.(map[string]any)
		if p["name"] != "components-root" {
			continue
		}
		var rootComp map[string]any
		if err := json.Unmarshal([]byte(p["value"].(string)), &rootComp); err != nil {
			return err
		}
		rootComp["dag"].(map[string]any)["tasks"].(map[string]any)["for-loop-3"] = loop3Task
		p["value"] = mustJSON(rootComp)
	}
	for name, v := range map[string]any{"components-comp-for-loop-3": loop3Component,
		"components-comp-print-artifact": printArtifactComponent, "implementations-comp-print-artifact": printArtifactImpl} {
		params = append(params, map[string]any{"name": name, "value": mustJSON(v)})
	}
	args["parameters"] = params
	return nil
}

// addLoop3Templates adds the loop's templates and its task in root.
func addLoop3Templates(spec map[string]any) error {
	text := strings.ReplaceAll(loop3Templates, "'TASK'", quoteYAML(mustJSON(loop3Task)))
	text = strings.ReplaceAll(text, "'BODYTASK'", quoteYAML(mustJSON(printArtifactTask)))
	var added []any
	if err := yaml.Unmarshal([]byte(text), &added); err != nil {
		return fmt.Errorf("loop templates: %w", err)
	}
	templates := spec["templates"].([]any)
	for _, t := range templates {
		t := t.(map[string]any)
		if t["name"] != "root" {
			continue
		}
		dag := t["dag"].(map[string]any)
		dag["tasks"] = append(dag["tasks"].([]any), map[string]any{
			"name": "for-loop-3", "template": "comp-for-loop-3-for-loop-3-iterator", "depends": "for-loop-2.Succeeded",
			"arguments": map[string]any{"parameters": []any{map[string]any{"name": "parent-dag-id", "value": "{{inputs.parameters.parent-dag-id}}"}}},
		})
	}
	spec["templates"] = append(templates, added...)
	return nil
}

func quoteYAML(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
