# Stage: tokenize. (Rules arrive with this stage's issue.)
