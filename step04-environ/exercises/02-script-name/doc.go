// Package exercise checks the exercise "Mount the app under a SCRIPT_NAME"; see README.md.
package exercise
