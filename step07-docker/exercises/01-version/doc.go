// Package exercise checks the exercise "Which build is this?"; see README.md.
package exercise
