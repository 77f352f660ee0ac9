# Stage: corpus. (Rules arrive with this stage's issue.)
