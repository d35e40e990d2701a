// Package exercise checks the exercise "A worker that leaks"; see README.md.
package exercise
