// Package exercise checks the exercise "A header-count limit of your own"; see README.md.
package exercise
