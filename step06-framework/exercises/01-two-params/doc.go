// Package exercise checks the exercise "A route with two parameters"; see README.md.
package exercise
