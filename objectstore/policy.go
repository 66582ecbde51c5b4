package objectstore

import (
	"encoding/json"
	"fmt"
)

// Prefixes of the shared bucket, as KFP lays it out: each namespace's own
// (pipeline roots and Argo logs under private-artifacts/<ns>/) and the two
// every namespace shares.
const (
	privateArtifacts = "private-artifacts"
	private          = "private"
	sharedArtifacts  = "artifacts"
	shared           = "shared"
)

// PolicyName is the name of a namespace user's policy, as sync.py names it
// (so a user made by sync.py keeps one policy, not two).
func PolicyName(ns string) string { return "KubeflowProject" + ns }

type policyDocument struct {
	Version   string      `json:"Version"`
	Statement []statement `json:"Statement"`
}

type statement struct {
	Sid       string         `json:"Sid,omitempty"`
	Effect    string         `json:"Effect"`
	Principal any            `json:"Principal,omitempty"`
	Action    any            `json:"Action"`
	Resource  any            `json:"Resource"`
	Condition map[string]any `json:"Condition,omitempty"`
}

const policyVersion = "2012-10-17"

func objectARN(bucket, prefix string) string {
	return fmt.Sprintf("arn:aws:s3:::%s/%s/*", bucket, prefix)
}

// UserPolicy allows the object operations under the namespace's prefixes
// and the shared ones. Listing is the bucket policy's business: the user
// policy engine can only allow, and listing needs a deny.
func UserPolicy(bucket, ns string) string {
	return mustJSON(policyDocument{Version: policyVersion, Statement: []statement{{
		Effect: "Allow",
		Action: []string{"s3:Put*", "s3:Get*", "s3:List*", "s3:DeleteObject"},
		Resource: []string{
			objectARN(bucket, sharedArtifacts),
			objectARN(bucket, privateArtifacts+"/"+ns),
			objectARN(bucket, private+"/"+ns),
			objectARN(bucket, shared),
		},
	}}})
}

// BucketPolicy scopes s3:ListBucket by the caller's user name: a user may
// list deep inside its own private prefixes and the shared ones, browse the
// top level one level deep, and HEAD the bucket, but not list inside
// another user's private prefixes. SeaweedFS evaluates it before the user
// policies.
func BucketPolicy(bucket string) string {
	arn := "arn:aws:s3:::" + bucket
	own := []string{privateArtifacts + "/${aws:username}/*", private + "/${aws:username}/*"}
	list := func(sid, effect string, cond map[string]any) statement {
		return statement{Sid: sid, Effect: effect, Principal: "*", Action: "s3:ListBucket", Resource: arn, Condition: cond}
	}
	return mustJSON(policyDocument{Version: policyVersion, Statement: []statement{
		list("AllowOwnDeepList", "Allow", map[string]any{
			"StringLike": map[string]any{"s3:prefix": append(own, sharedArtifacts+"/*", shared+"/*")},
		}),
		list("AllowHeadBucket", "Allow", map[string]any{
			"StringEquals": map[string]any{"s3:RequestMethod": "HEAD"},
		}),
		list("AllowTopLevelDelimitedBrowse", "Allow", map[string]any{
			"Null":         map[string]any{"s3:prefix": "true"},
			"StringEquals": map[string]any{"s3:delimiter": "/"},
		}),
		list("DenyOtherDeepList", "Deny", map[string]any{
			"StringLike":    map[string]any{"s3:prefix": []string{privateArtifacts + "/*", private + "/*"}},
			"StringNotLike": map[string]any{"s3:prefix": own},
		}),
	}})
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil { // plain structs of strings: cannot happen
		panic(err)
	}
	return string(b)
}

// samePolicy compares two policy documents as JSON values, so that a
// server's reformatting is not a difference.
func samePolicy(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return equalJSON(x, y)
}

func equalJSON(x, y any) bool {
	bx, err1 := json.Marshal(x)
	by, err2 := json.Marshal(y)
	return err1 == nil && err2 == nil && string(bx) == string(by)
}
