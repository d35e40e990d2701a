// Package exercise checks the exercise "Keep the connection alive"; see README.md.
package exercise
