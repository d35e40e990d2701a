// Package exercise checks the exercise "A callable class: a visit counter"; see README.md.
package exercise
