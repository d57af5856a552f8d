package service

// ActivatePending lets the external tests activate a pending grant the way
// the owner's approval does.
var ActivatePending = (*Service).activatePending
