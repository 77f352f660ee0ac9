# Stage: finetune. (Rules arrive with this stage's issue.)
