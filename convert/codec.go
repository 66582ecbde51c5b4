package convert

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// The workflow is handled as a generic JSON tree rather than Argo's typed
// Workflow: fields this version of Argo does not know survive, and untouched
// parts come out exactly as they went in (KFP writes its workflows with the
// same JSON-to-YAML encoder, sorted keys; the tests check all 147 round-trip
// byte for byte).

// decode reads one YAML or JSON document into a JSON tree. Numbers stay
// json.Number so that large integers keep their digits.
func decode(in []byte) (map[string]any, error) {
	doc, err := singleDocument(in)
	if err != nil {
		return nil, err
	}
	// Strict: a duplicated key would otherwise lose one of its values silently.
	j, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return nil, fmt.Errorf("parse workflow: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("parse workflow: want a YAML or JSON object: %w", err)
	}
	return m, nil
}

// singleDocument refuses a multi-document stream: converting the first
// document and dropping the rest would lose them without a word.
func singleDocument(in []byte) ([]byte, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(in)))
	var docs [][]byte
	for {
		d, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read workflow: %w", err)
		}
		if len(bytes.TrimSpace(d)) > 0 && !onlyComments(d) {
			docs = append(docs, d)
		}
	}
	switch len(docs) {
	case 0:
		return nil, errors.New("read workflow: empty input")
	case 1:
		return docs[0], nil
	}
	return nil, fmt.Errorf("read workflow: %d YAML documents, want exactly one", len(docs))
}

func onlyComments(doc []byte) bool {
	for _, line := range bytes.Split(doc, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) > 0 && line[0] != '#' && !bytes.Equal(line, []byte("---")) {
			return false
		}
	}
	return true
}

func encode(m map[string]any) ([]byte, error) {
	j, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode workflow: %w", err)
	}
	return yaml.JSONToYAML(j)
}
