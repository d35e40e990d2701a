// Package exercise checks the exercise "Static files, and not one more"; see README.md.
package exercise
