// Package exercise checks the exercise "Greet by name"; see README.md.
package exercise
