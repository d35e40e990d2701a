// Package exercise checks the exercise "How busy are the workers?"; see README.md.
package exercise
