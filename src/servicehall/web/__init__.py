"""The staff back office shell: layout, navigation, home workbench, error pages."""
