# Stage: evaluate. (Rules arrive with this stage's issue.)
