# Stage: export validation and source adapters. (Rules arrive with this stage's issue.)
