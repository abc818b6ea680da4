/** The provider contract suite (test/providers/contract-suite.ts) for azure, against its fake. */
import { defineContractSuite } from './contract-suite.js';

defineContractSuite('azure');
