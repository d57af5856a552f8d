// Command opa decides the same recorded requests with agentkeys' policy
// engine and with Open Policy Agent, and prints the time per decision of
// each and their ratio. It is a module of its own so that OPA never
// enters agentkeys' go.mod.
package main
