// Package exercise checks the exercise "Echo the request head"; see README.md.
package exercise
