// Package exercise checks the exercise "Stream a large body"; see README.md.
package exercise
