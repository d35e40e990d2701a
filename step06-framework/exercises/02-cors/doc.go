// Package exercise checks the exercise "A CORS middleware"; see README.md.
package exercise
