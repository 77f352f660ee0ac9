# Stage: remede. (Rules arrive with this stage's issue.)
