#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { addEnvironment } from '../lib/app';
import { ConfigError, selectEnvironments } from '../lib/config';

// Wiring only: validate config, create every selected environment, attach cdk-nag.
const app = new App();
try {
  for (const config of selectEnvironments(app.node.tryGetContext('env'))) {
    addEnvironment(app, config);
  }
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
