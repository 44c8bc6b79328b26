import { applyTestContext } from './helpers/context';

applyTestContext();
