# Stage: synth. (Rules arrive with this stage's issue.)
