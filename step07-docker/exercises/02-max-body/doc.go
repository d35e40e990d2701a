// Package exercise checks the exercise "A body limit from the environment"; see README.md.
package exercise
