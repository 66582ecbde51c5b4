package objectstore

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7/pkg/lifecycle"
)

func TestUserPolicyNamesOnlyTheNamespacePrefixes(t *testing.T) {
	var doc policyDocument
	if err := json.Unmarshal([]byte(UserPolicy("mlpipeline", "team-a")), &doc); err != nil {
		t.Fatal(err)
	}
	res, _ := doc.Statement[0].Resource.([]any)
	var got []string
	for _, r := range res {
		got = append(got, r.(string))
	}
	want := "arn:aws:s3:::mlpipeline/artifacts/* arn:aws:s3:::mlpipeline/private-artifacts/team-a/* arn:aws:s3:::mlpipeline/private/team-a/* arn:aws:s3:::mlpipeline/shared/*"
	if strings.Join(got, " ") != want {
		t.Fatalf("resources: %v\nwant %s", got, want)
	}
	if PolicyName("team-a") != "KubeflowProjectteam-a" {
		t.Fatalf("policy name %q: must match sync.py's so its users keep one policy", PolicyName("team-a"))
	}
}

func TestSamePolicyIgnoresFormatting(t *testing.T) {
	p := BucketPolicy("mlpipeline")
	var v any
	_ = json.Unmarshal([]byte(p), &v)
	indented, _ := json.MarshalIndent(v, "", "  ")
	if !samePolicy(p, string(indented)) {
		t.Fatal("the same policy re-indented compares different")
	}
	if samePolicy(p, BucketPolicy("other")) || samePolicy(p, "not json") {
		t.Fatal("different policies compare equal")
	}
}

func TestWithRetention(t *testing.T) {
	other := lifecycle.Rule{ID: "keep-me", Status: "Enabled", RuleFilter: lifecycle.Filter{Prefix: "tmp/"}}
	conf := func(rules ...lifecycle.Rule) *lifecycle.Configuration {
		c := lifecycle.NewConfiguration()
		c.Rules = rules
		return c
	}
	ids := func(c *lifecycle.Configuration) string {
		var s []string
		for _, r := range c.Rules {
			s = append(s, r.ID)
		}
		return strings.Join(s, ",")
	}
	cases := []struct {
		name    string
		current *lifecycle.Configuration
		days    int
		want    string
		changed bool
	}{
		{"added beside others", conf(other), 30, "keep-me,private-artifacts", true},
		{"already there", conf(other, retentionRule(30)), 30, "keep-me,private-artifacts", false},
		{"days changed", conf(retentionRule(7), other), 30, "keep-me,private-artifacts", true},
		{"removed, others kept", conf(retentionRule(7), other), 0, "keep-me", true},
		{"nothing to remove", conf(other), -1, "keep-me", false},
		{"empty stays empty", conf(), 0, "", false},
	}
	for _, c := range cases {
		next, changed := withRetention(c.current, c.days)
		if ids(next) != c.want || changed != c.changed {
			t.Errorf("%s: rules %q changed %v, want %q %v", c.name, ids(next), changed, c.want, c.changed)
		}
	}
}

func TestKeyStringHidesTheSecret(t *testing.T) {
	if s := (Key{AccessKey: "AK", SecretKey: "very-secret"}).String(); strings.Contains(s, "very-secret") {
		t.Fatalf("Key.String() = %q shows the secret", s)
	}
}
