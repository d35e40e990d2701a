// Package exercise checks the exercise "A gzip middleware"; see README.md.
package exercise
