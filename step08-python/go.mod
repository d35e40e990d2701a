module example.com/wsgicourse/step08-python

go 1.26

require (
	example.com/wsgicourse/transcript v0.0.0
	github.com/google/go-cmp v0.7.0
)

require golang.org/x/tools v0.49.0 // indirect

// The test harness lives beside the steps; the server itself needs only
// the standard library (GOWORK=off go build works without it).
replace example.com/wsgicourse/transcript => ../transcript
