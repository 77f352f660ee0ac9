# Stage: figures. (Rules arrive with this stage's issue.)
