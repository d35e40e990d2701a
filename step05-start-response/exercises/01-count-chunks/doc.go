// Package exercise checks the exercise "Count, one chunk at a time"; see README.md.
package exercise
