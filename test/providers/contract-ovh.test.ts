/** The provider contract suite (test/providers/contract-suite.ts) for ovh, against its fake. */
import { defineContractSuite } from './contract-suite.js';

defineContractSuite('ovh');
