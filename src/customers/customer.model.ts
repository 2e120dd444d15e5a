/** A customer as the layers above the repository see it. */
export interface CustomerModel {
  id: string;
  businessId: string;
  email: string;
  name: string;
}
