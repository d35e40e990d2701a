module example.com/wsgicourse/transcript

go 1.26

// x/tools stays at v0.49.0: later versions need go 1.26.0, and a module
// whose go line has a patch number cannot sit in the course's go 1.26 workspace.
require (
	github.com/google/go-cmp v0.7.0
	golang.org/x/tools v0.49.0
)
