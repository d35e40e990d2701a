// Package exercise checks the exercise "Too many requests"; see README.md.
package exercise
