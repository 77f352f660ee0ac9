# Stage: pretrain. (Rules arrive with this stage's issue.)
