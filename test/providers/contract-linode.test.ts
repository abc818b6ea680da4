/** The provider contract suite (test/providers/contract-suite.ts) for linode, against its fake. */
import { defineContractSuite } from './contract-suite.js';

defineContractSuite('linode');
